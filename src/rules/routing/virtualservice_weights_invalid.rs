use super::*;

declare_rule! {
    /// ## What it does
    /// Flags the weights of an Istio VirtualService (`networking.istio.io`
    /// `v1alpha3`, `v1beta1` or `v1`) that Istio's validation rejects: a
    /// `route` of two or more destinations, under `http`, `tls` or `tcp`,
    /// whose weights add up to 0 (a weight left out is 0 in Istio), and a
    /// negative weight.
    ///
    /// Weights are relative since Istio 1.15: a destination receives its
    /// weight divided by the sum of the route's weights, and the sum need not
    /// be 100 (istio/istio#39544 dropped that check; the API had been
    /// loosened in istio/api#2192). Before 1.15 istiod also rejected any
    /// total but 100 for two or more destinations; those releases are long
    /// out of support and their rule is not applied. A lone destination
    /// receives every request whatever its weight, and is not judged.
    ///
    /// ## Why it matters
    /// istiod's validating webhook refuses such a VirtualService ("total
    /// destination weight = 0", "weight -1 < 0"), so the `kubectl apply`,
    /// Helm upgrade or canary step that writes it fails and traffic stays
    /// where the previous step put it. Where validation does not run,
    /// istiod leaves out every destination of weight 0 and hands the proxies
    /// a weighted route with nothing in it, which Envoy rejects: the
    /// proxies keep their previous routes, and later changes to them stop
    /// arriving until the weights are fixed.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: VirtualService
    /// metadata: {name: reviews, namespace: shop}
    /// spec:
    ///   hosts: [reviews]
    ///   http:
    ///     - route:
    ///         - destination: {host: reviews, subset: v1}
    ///         - destination: {host: reviews, subset: v2}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: VirtualService
    /// metadata: {name: reviews, namespace: shop}
    /// spec:
    ///   hosts: [reviews]
    ///   http:
    ///     - route:
    ///         - destination: {host: reviews, subset: v1}
    ///           weight: 90
    ///         - destination: {host: reviews, subset: v2}
    ///           weight: 10
    /// ```
    ///
    /// ## References
    /// - Istio validation, `validateHTTPRouteDestinations` and
    ///   `validateRouteDestinations` in istio/istio
    ///   `pkg/config/validation/validation.go`
    /// - `HTTPRouteDestination.weight`:
    ///   <https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRouteDestination>
    pub struct VirtualserviceWeightsInvalid {
        id: "virtualservice-weights-invalid",
        family: Routing,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for VirtualserviceWeightsInvalid {
    fn check_route(&self, route: &Route, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        let Some(vs) = virtual_service(route) else {
            return;
        };
        for (section, at, destinations) in vs.typed.routes() {
            let mut negative = false;
            for (index, destination) in destinations.iter().enumerate() {
                let weight = mesh_weight(destination);
                if weight < 0 {
                    negative = true;
                    out.push(Violation::new(
                        format!("/spec/{section}/{at}/route/{index}/weight"),
                        format!(
                            "`weight: {weight}` is negative: istiod rejects the VirtualService (`weight {weight} < 0`)"
                        ),
                        "set a weight of 0 or more: 0 sends this destination nothing",
                    ));
                }
            }
            // A negative weight is the finding there; what it adds up to
            // then says nothing more.
            let total: i64 = destinations.iter().map(mesh_weight).sum();
            if negative || destinations.len() < 2 || total != 0 {
                continue;
            }
            let unset = destinations.iter().filter(|d| d.weight.is_none()).count();
            let how = match unset {
                0 => "are all `0`".to_owned(),
                n if n == destinations.len() => {
                    "are all left out, and a weight left out is 0".to_owned()
                }
                _ => "are all `0` or left out, and a weight left out is 0".to_owned(),
            };
            out.push(Violation::new(
                format!("/spec/{section}/{at}/route"),
                format!(
                    "the weights of the `{}` destinations {how}: istiod rejects the VirtualService (`total destination weight = 0`), and a proxy given it anyway rejects the route",
                    destinations.len()
                ),
                "give the destination that should serve a weight above 0, such as `weight: 100`",
            ));
        }
    }
}
