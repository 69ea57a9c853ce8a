//! Weighted routes: Gateway API `HTTPRoute`, Istio `VirtualService` and the
//! `DestinationRule`s that name a VirtualService's subsets. k8s-openapi has
//! no types for them; these hold only the fields the routing rules read,
//! every one optional, so that a route written in any served version decodes.

use serde::Deserialize;

use super::index::Related;

/// `gateway.networking.k8s.io` `HTTPRoute` (v1, v1beta1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HttpRoute {
    pub spec: Option<HttpRouteSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HttpRouteSpec {
    pub rules: Option<Vec<HttpRouteRule>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    pub backend_refs: Option<Vec<BackendRef>>,
    pub filters: Option<Vec<RouteFilter>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RouteFilter {
    #[serde(rename = "type")]
    pub filter_type: Option<String>,
}

/// One `backendRefs` entry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BackendRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub weight: Option<i64>,
}

impl BackendRef {
    /// The weight the Gateway API gives it: 1 when unset.
    pub fn weight(&self) -> i64 {
        self.weight.unwrap_or(1)
    }

    /// Whether it names a Kubernetes Service: group `""` (or `core`, which
    /// some implementations accept) and kind `Service`, the defaults.
    pub fn is_service(&self) -> bool {
        matches!(self.group.as_deref(), None | Some("" | "core"))
            && matches!(self.kind.as_deref(), None | Some("Service"))
    }
}

impl HttpRouteRule {
    /// Whether the rule answers matching requests itself, so that its
    /// backends receive nothing whatever their weights: a redirect, or an
    /// implementation's own filter (Envoy Gateway's direct response, …).
    pub fn answers_itself(&self) -> bool {
        self.filters.iter().flatten().any(|f| {
            matches!(
                f.filter_type.as_deref(),
                Some("RequestRedirect" | "ExtensionRef")
            )
        })
    }
}

/// `networking.istio.io` `VirtualService` (v1alpha3, v1beta1, v1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VirtualService {
    pub spec: Option<VirtualServiceSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct VirtualServiceSpec {
    pub http: Option<Vec<MeshRoute>>,
    pub tls: Option<Vec<MeshRoute>>,
    pub tcp: Option<Vec<MeshRoute>>,
}

/// An `http`, `tls` or `tcp` entry: only its weighted destinations.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MeshRoute {
    pub route: Option<Vec<RouteDestination>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RouteDestination {
    pub destination: Option<Destination>,
    /// Istio's proto3 `int32`: unset is 0.
    pub weight: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Destination {
    pub host: Option<String>,
    pub subset: Option<String>,
}

impl VirtualService {
    /// Each route list with the field it is under (`http`, `tls`, `tcp`)
    /// and its index there.
    pub fn routes(&self) -> impl Iterator<Item = (&'static str, usize, &[RouteDestination])> {
        let spec = self.spec.as_ref();
        [
            ("http", spec.and_then(|s| s.http.as_ref())),
            ("tls", spec.and_then(|s| s.tls.as_ref())),
            ("tcp", spec.and_then(|s| s.tcp.as_ref())),
        ]
        .into_iter()
        .flat_map(|(name, list)| {
            list.into_iter()
                .flatten()
                .enumerate()
                .filter_map(move |(at, r)| r.route.as_deref().map(|route| (name, at, route)))
        })
    }
}

/// `networking.istio.io` `DestinationRule`: its host and subset names.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DestinationRule {
    pub spec: Option<DestinationRuleSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DestinationRuleSpec {
    pub host: Option<String>,
    pub subsets: Option<Vec<Subset>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Subset {
    pub name: Option<String>,
}

/// A route object the routing rules judge.
#[derive(Debug, Clone)]
pub enum Route {
    Http(Related<HttpRoute>),
    Mesh(Related<VirtualService>),
}

impl Route {
    pub fn doc(&self) -> &crate::source::Document {
        match self {
            Route::Http(r) => &r.doc,
            Route::Mesh(r) => &r.doc,
        }
    }

    pub fn object(&self) -> &super::ObjectRef {
        match self {
            Route::Http(r) => &r.object,
            Route::Mesh(r) => &r.object,
        }
    }
}

/// A mesh host as Istio resolves it against the namespace of the object
/// that names it (`ResolveShortnameToFQDN`): a short name `reviews` in
/// namespace `shop` is the Service `reviews.shop`, as is
/// `reviews.shop.svc.<domain>`; any other host (`reviews.shop`, which Istio
/// does not expand, an external name) stands for itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MeshHost {
    Service { name: String, namespace: String },
    Other(String),
}

impl MeshHost {
    /// `None` for a wildcard, which names no one host.
    pub fn resolve(host: &str, namespace: &str) -> Option<MeshHost> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() || host.contains('*') {
            return None;
        }
        let labels: Vec<&str> = host.split('.').collect();
        Some(match labels.as_slice() {
            [name] => MeshHost::Service {
                name: (*name).to_owned(),
                namespace: namespace.to_owned(),
            },
            [name, ns, "svc", _domain, ..] => MeshHost::Service {
                name: (*name).to_owned(),
                namespace: (*ns).to_owned(),
            },
            _ => MeshHost::Other(host),
        })
    }

    /// Whether a wildcard host (`*`, `*.shop.svc.cluster.local`) takes this
    /// host in, the way a DestinationRule's wildcard host applies to it.
    pub fn within(&self, wildcard: &str) -> bool {
        let wildcard = wildcard.trim().trim_end_matches('.').to_ascii_lowercase();
        let Some(suffix) = wildcard.strip_prefix('*') else {
            return false;
        };
        match self {
            MeshHost::Other(host) => host.ends_with(suffix),
            // The cluster's domain is unknown offline: a suffix matches when
            // its labels up to `svc` are the Service's (`*.shop.svc.…`), or
            // when it holds no `svc` and so lies within the domain.
            MeshHost::Service { name, namespace } => {
                let labels: Vec<&str> = suffix.split('.').filter(|l| !l.is_empty()).collect();
                match labels.iter().position(|l| *l == "svc") {
                    None => true,
                    Some(at) => match labels.get(..at).unwrap_or_default() {
                        [] => true,
                        [ns] => namespace.is_empty() || *ns == namespace.as_str(),
                        [n, ns] => {
                            *n == name.as_str()
                                && (namespace.is_empty() || *ns == namespace.as_str())
                        }
                        _ => false,
                    },
                }
            }
        }
    }

    /// Whether two hosts may be the same: equal, or the same Service name
    /// where one of the namespaces is unknown (an object written without
    /// one goes to whichever namespace it is applied in).
    pub fn may_be(&self, other: &MeshHost) -> bool {
        match (self, other) {
            (
                MeshHost::Service { name, namespace },
                MeshHost::Service {
                    name: other_name,
                    namespace: other_namespace,
                },
            ) => {
                name == other_name
                    && (namespace == other_namespace
                        || namespace.is_empty()
                        || other_namespace.is_empty())
            }
            _ => self == other,
        }
    }
}

impl std::fmt::Display for MeshHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MeshHost::Service { name, namespace } if namespace.is_empty() => write!(f, "{name}"),
            MeshHost::Service { name, namespace } => write!(f, "{name}.{namespace}"),
            MeshHost::Other(host) => write!(f, "{host}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_resolve_as_istio_resolves_short_names() {
        let short = MeshHost::resolve("reviews", "shop");
        let long = MeshHost::resolve("reviews.shop.svc.cluster.local", "other");
        assert_eq!(short, long);
        assert_eq!(
            MeshHost::resolve("reviews.shop", "shop"),
            Some(MeshHost::Other("reviews.shop".to_owned()))
        );
        assert_eq!(MeshHost::resolve("*.shop.svc.cluster.local", "shop"), None);
        assert_eq!(MeshHost::resolve("", "shop"), None);
    }

    #[test]
    fn wildcards_take_in_hosts() {
        let reviews = MeshHost::resolve("reviews", "shop").unwrap_or_else(|| panic!());
        assert!(reviews.within("*"));
        assert!(reviews.within("*.shop.svc.cluster.local"));
        assert!(reviews.within("*.svc.cluster.local"));
        assert!(!reviews.within("*.other.svc.cluster.local"));
        assert!(!reviews.within("reviews.shop.svc.cluster.local"));
        let external = MeshHost::Other("api.example.com".to_owned());
        assert!(external.within("*.example.com"));
        assert!(!external.within("*.example.org"));
        let unplaced = MeshHost::resolve("reviews", "").unwrap_or_else(|| panic!());
        assert!(unplaced.within("*.shop.svc.cluster.local"));
        assert!(unplaced.may_be(&reviews));
        assert!(
            !reviews.may_be(&MeshHost::resolve("reviews", "other").unwrap_or_else(|| panic!()))
        );
    }
}
