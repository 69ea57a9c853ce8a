use super::*;
use crate::model::Related;
use crate::model::route::{DestinationRule, MeshHost};
use crate::severity::Severity;

declare_rule! {
    /// ## What it does
    /// Flags a destination of an Istio VirtualService (under `http`, `tls`
    /// or `tcp` routes) whose `subset` no DestinationRule in the input
    /// defines for the destination's host. Hosts are resolved as Istio
    /// resolves them: a short name (`reviews`) against the namespace of the
    /// object that writes it, so `reviews` in a VirtualService of namespace
    /// `shop` and `reviews.shop.svc.cluster.local` in a DestinationRule of
    /// any namespace are one host; a DestinationRule with a wildcard host
    /// (`*.shop.svc.cluster.local`) counts for the hosts it covers. A
    /// destination of weight 0 beside others receives nothing and is not
    /// judged.
    ///
    /// How sure the finding is depends on what the input shows:
    ///
    /// - DestinationRules for the host, none defining the subset: an error;
    /// - no DestinationRule for the host, but DestinationRules of the
    ///   VirtualService's namespace or of the host's: a warning (the rule
    ///   for the host may be kept elsewhere, by the Service's owners);
    /// - no DestinationRule at all: nothing is reported, the input is taken
    ///   to be only a part of the mesh's configuration.
    ///
    /// Where the VirtualService or a DestinationRule is written without a
    /// namespace, which namespace the one is applied to is unknown: that
    /// DestinationRule counts only from the VirtualService's own folder (a
    /// chart's render, an application's manifests, one stream on stdin).
    ///
    /// ## Why it matters
    /// istiod builds a cluster for each subset a DestinationRule defines
    /// (`outbound|9080|v2|reviews.shop.svc.cluster.local`). A route to a
    /// subset nobody defines has no cluster behind it, and every request
    /// sent there fails with 503 even though the pods are running and
    /// ready: the share of the route's weight, or all of it. Istio's
    /// validation does not look across objects and accepts such a
    /// VirtualService; only `istioctl analyze` over the whole cluster
    /// reports it. It is the usual failure of a canary that routes to `v2`
    /// before the DestinationRule that defines `v2` is applied.
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
    ///           weight: 90
    ///         - destination: {host: reviews, subset: v2}
    ///           weight: 10
    /// ---
    /// apiVersion: networking.istio.io/v1
    /// kind: DestinationRule
    /// metadata: {name: reviews, namespace: shop}
    /// spec:
    ///   host: reviews
    ///   subsets:
    ///     - {name: v1, labels: {version: v1}}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: networking.istio.io/v1
    /// kind: DestinationRule
    /// metadata: {name: reviews, namespace: shop}
    /// spec:
    ///   host: reviews
    ///   subsets:
    ///     - {name: v1, labels: {version: v1}}
    ///     - {name: v2, labels: {version: v2}}
    /// ```
    ///
    /// ## References
    /// - Istio's own check over a whole cluster, `DestinationRuleAnalyzer`
    ///   in istio/istio
    ///   `pkg/config/analysis/analyzers/virtualservice/destinationrules.go`
    /// - `Destination.subset`:
    ///   <https://istio.io/latest/docs/reference/config/networking/virtual-service/#Destination>
    pub struct VirtualserviceSubsetMissing {
        id: "virtualservice-subset-missing",
        family: Routing,
        scope: Input,
        fix: None,
        settings: [],
    }
}

impl Rule for VirtualserviceSubsetMissing {
    fn check_route(&self, route: &Route, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let Some(vs) = virtual_service(route) else {
            return;
        };
        let namespace = vs.object.namespace_key();
        let rules: Vec<&Related<DestinationRule>> = cx
            .index
            .destination_rules()
            .iter()
            .filter(|dr| {
                crate::model::index::in_sight(
                    &vs.doc,
                    namespace,
                    &dr.doc,
                    dr.object.namespace_key(),
                )
            })
            .collect();
        if rules.is_empty() {
            return;
        }
        for (section, at, destinations) in vs.typed.routes() {
            let total: i64 = destinations.iter().map(|d| mesh_weight(d).max(0)).sum();
            for (index, routed) in destinations.iter().enumerate() {
                let Some(destination) = routed.destination.as_ref() else {
                    continue;
                };
                let Some(subset) = destination.subset.as_deref().filter(|s| !s.is_empty()) else {
                    continue;
                };
                if destinations.len() > 1 && mesh_weight(routed) <= 0 {
                    continue;
                }
                let written = destination.host.as_deref().unwrap_or_default();
                let Some(host) = MeshHost::resolve(written, namespace) else {
                    continue;
                };
                let for_host: Vec<&Related<DestinationRule>> = rules
                    .iter()
                    .copied()
                    .filter(|dr| applies(dr, &host))
                    .collect();
                if for_host.iter().any(|dr| defines(dr, subset)) {
                    continue;
                }
                let share = if destinations.len() > 1 {
                    share(mesh_weight(routed), total, "the route")
                } else {
                    share(1, 1, "the route")
                };
                let pointer = format!("/spec/{section}/{at}/route/{index}/destination/subset");
                let without = "or route to the host without a subset";
                if !for_host.is_empty() {
                    let names: Vec<String> =
                        for_host.iter().map(|dr| dr.object.name.clone()).collect();
                    let known: Vec<String> = for_host
                        .iter()
                        .flat_map(|dr| subsets(dr))
                        .map(str::to_owned)
                        .collect();
                    let defined = if known.is_empty() {
                        "defines no subset".to_owned()
                    } else {
                        format!("defines {}", listed(&known))
                    };
                    let which = if names.len() == 1 {
                        format!("DestinationRule {}", listed(&names))
                    } else {
                        format!("DestinationRules {}", listed(&names))
                    };
                    out.push(Violation::new(
                        pointer,
                        format!(
                            "subset `{subset}` of host `{host}` is not defined: {which} {defined}, so the proxies answer {share} with 503"
                        ),
                        format!("define subset `{subset}` in {which}, {without}"),
                    ));
                    continue;
                }
                let host_namespace = match &host {
                    MeshHost::Service { namespace, .. } => Some(namespace.as_str()),
                    MeshHost::Other(_) => None,
                };
                let Some(nearby) = rules
                    .iter()
                    .map(|dr| dr.object.namespace_key())
                    .find(|at| *at == namespace || Some(*at) == host_namespace)
                else {
                    continue;
                };
                let in_namespace = if nearby.is_empty() {
                    "without a namespace".to_owned()
                } else {
                    format!("in namespace `{nearby}`")
                };
                out.push(
                    Violation::new(
                        pointer,
                        format!(
                            "no DestinationRule in the input is for host `{host}`, though it holds DestinationRules {in_namespace}: unless one applied elsewhere defines subset `{subset}`, the proxies answer {share} with 503"
                        ),
                        format!(
                            "add a DestinationRule for host `{written}` that defines subset `{subset}`, {without}"
                        ),
                    )
                    .at_most(Severity::Warning),
                );
            }
        }
    }
}

/// Whether a DestinationRule is for `host`: the same host, or a wildcard
/// host that covers it.
fn applies(dr: &Related<DestinationRule>, host: &MeshHost) -> bool {
    let Some(written) = dr.typed.spec.as_ref().and_then(|s| s.host.as_deref()) else {
        return false;
    };
    if written.contains('*') {
        return host.within(written);
    }
    MeshHost::resolve(written, dr.object.namespace_key()).is_some_and(|own| own.may_be(host))
}

fn subsets(dr: &Related<DestinationRule>) -> impl Iterator<Item = &str> {
    dr.typed
        .spec
        .as_ref()
        .and_then(|s| s.subsets.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|s| s.name.as_deref())
}

fn defines(dr: &Related<DestinationRule>, subset: &str) -> bool {
    subsets(dr).any(|name| name == subset)
}
